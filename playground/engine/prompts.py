"""How a prompt becomes token ids: the same for an engine in this process and one in another."""
from __future__ import annotations


class PromptEncoding:
    tokenizer: object

    def encode_chat(self, messages: list[dict]) -> list[int]:
        encoded = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                     tokenize=True, return_dict=True)
        return list(encoded["input_ids"])

    def encode_text(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]
