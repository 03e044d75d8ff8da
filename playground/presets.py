"""Starting points for the tasks an LLM guide lists."""
from django.utils.translation import gettext as _


def presets() -> list[dict]:
    return [
        {"key": "summarise", "label": _("Summarise"), "system": _("You summarise text in three short sentences."),
         "user": _("Summarise this: Large language models are neural networks trained on huge amounts of text. "
                   "They can answer questions, translate, write code and more."), "temperature": 0.3},
        {"key": "translate_zh_en", "label": _("Translate 中文 → English"),
         "system": "Translate the user's Chinese text into English. Reply with the translation only.",
         "user": "大语言模型正在改变我们编写软件的方式。", "temperature": 0.2},
        {"key": "translate_en_zh", "label": _("Translate English → 中文"),
         "system": "Translate the user's English text into Simplified Chinese. Reply with the translation only.",
         "user": "Open models let everyone experiment with language technology.", "temperature": 0.2},
        {"key": "sentiment", "label": _("Classify sentiment"),
         "system": _("Classify the sentiment of the text as positive, negative or neutral. Answer with one word."),
         "user": _("The new release is fast and the docs are excellent."), "temperature": 0.0},
        {"key": "code", "label": _("Write code"), "system": _("You are a helpful programming assistant."),
         "user": _("Write a Python function that checks whether a string is a palindrome."), "temperature": 0.2},
        {"key": "poem", "label": _("Write a poem"), "system": _("You are a poet."),
         "user": _("Write a four-line poem about the sea at night."), "temperature": 0.9},
        {"key": "qa", "label": _("Answer a question"), "system": _("Answer briefly and accurately."),
         "user": _("What is the capital of France?"), "temperature": 0.0},
    ]
