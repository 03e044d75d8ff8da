"""What a resource's fields may look like, shared by the model, the API, the forms and cards."""
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

NAME = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z",
                      _("Letters, digits, '.', '_' and '-' only, starting with a letter or digit."))
# An owner is an organisation (NAME) or a member's username (Django's username characters),
# and a path segment of the resource's URL: never '/', '.' or '..'.
OWNER = RegexValidator(r"^(?!\.{1,2}\Z)[\w.@+-]+\Z",
                       _("An owner is letters, digits, '.', '@', '+', '_' and '-' only."))
# Hugging Face pipeline tags (text-generation, text2text-generation, fill-mask): they end up in
# code that visitors copy, so nothing but lower-case words joined by single dashes.
TASK_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*\Z"
TASK = RegexValidator(TASK_PATTERN, _("A task is lower-case letters and digits in words joined by "
                                      "dashes, such as text-generation."))
LIBRARY_PATTERN = r"^[A-Za-z0-9._-]+\Z"
LIBRARY = RegexValidator(LIBRARY_PATTERN, _("A library name is letters, digits, '.', '_' and '-' only."))
ARXIV_ID_PATTERN = r"^(\d{4}\.\d{4,5}(v\d+)?)?$"
LANGUAGE_CODE_MAX_LENGTH = 20
MAX_LANGUAGES = 50
MAX_PARAMETERS = 10**15
