"""The dialogue: the survey as data and a pure engine that walks a citizen through it."""
