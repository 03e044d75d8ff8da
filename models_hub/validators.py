"""What a resource's identifying fields may look like, shared by the API and the forms."""
from django.core.validators import RegexValidator

NAME = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
                      "Letters, digits, '.', '_' and '-' only, starting with a letter or digit.")
ARXIV_ID_PATTERN = r"^(\d{4}\.\d{4,5}(v\d+)?)?$"
LANGUAGE_CODE_MAX_LENGTH = 20
MAX_LANGUAGES = 50
MAX_PARAMETERS = 10**15
