"""The error an operator fixes: kept apart from the config's models (pydantic), so that
`prayas --help` answers at once."""


class ConfigError(Exception):
    """A problem an operator can fix by editing the config file or the environment."""
