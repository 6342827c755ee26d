"""Settings, read from the environment in one place."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str = "sqlite:///./shop.db"
    secret_key: SecretStr
    allowed_origins: list[str] = ["https://shop.example.com"]


def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
