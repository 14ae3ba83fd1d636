"""QR posters for station walls: one layout, drawn as a 300 dpi PNG and as a vector PDF."""
