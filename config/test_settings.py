"""Settings for the test suite: the real settings in debug mode (the development secret key),
whatever the environment says otherwise. The live servers the tests start inherit it."""
import os

os.environ["DJANGO_DEBUG"] = "1"

from .settings import *  # noqa: E402,F401,F403
