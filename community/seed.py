"""Idempotent demo data in English and Chinese: users, categories and threads."""
from __future__ import annotations

from . import services
from .models import Category, Thread, User

DEMO_PASSWORD = "demo-password-2026"

USERS = [
    dict(username="admin", display_name="Site admin", is_staff=True, is_superuser=True,
         bio="Moderator of LLM Community."),
    dict(username="alice", display_name="Alice", bio="NLP engineer. Fine-tunes small models."),
    dict(username="bob", display_name="Bob", bio="Backend developer learning about LLMs."),
    dict(username="lihua", display_name="李华", bio="研究生，研究大语言模型的评估。"),
]

CATEGORIES = [
    dict(slug="general", name="General", name_zh="综合讨论", position=10,
         description="Anything about large language models.", description_zh="关于大语言模型的一切话题。"),
    dict(slug="questions", name="Q&A", name_zh="问答", position=20,
         description="Ask a question, get answers, accept the best one.", description_zh="提出问题，获得解答，采纳最佳答案。"),
    dict(slug="training", name="Models & training", name_zh="模型与训练", position=30,
         description="Pretraining, fine-tuning, datasets and evaluation.", description_zh="预训练、微调、数据集与评估。"),
    dict(slug="deployment", name="Deployment & inference", name_zh="部署与推理", position=40,
         description="Serving, quantisation, batching and hardware.", description_zh="服务部署、量化、批处理与硬件。"),
    dict(slug="hub-discussions", name="Hub discussions", name_zh="模型库讨论", position=90, members_start_threads=False,
         description="One thread for each model, dataset, paper, tool and tutorial.",
         description_zh="每个模型、数据集、论文、工具和教程各有一个讨论帖。"),
]

# (category, author, kind, title, tags, body, [(author, reply)...], accepted reply index or None)
THREADS = [
    ("questions", "bob", "question", "How do LLMs differ from classic NLP models?", ["basics", "nlp"],
     "Before transformers we trained one model per task (a CRF for NER, an SVM for sentiment...). "
     "What actually changed with large language models?",
     [("alice", "Three things: **scale** (billions of parameters, trillions of tokens), **one model "
                "for many tasks** (instructions and few-shot prompts replace task-specific training), and "
                "**generation** as the interface. Classic pipelines needed labelled data per task; an LLM "
                "is pretrained once on raw text and adapted by prompting or light fine-tuning."),
      ("lihua", "补充一点：传统模型依赖人工特征工程，而大语言模型通过自监督预训练从海量文本中学习表示。")],
     0),
    ("general", "alice", "discussion", "What are LLMs used for today?", ["use-cases"],
     "Let's collect real uses: summarisation, translation, code assistants, search with retrieval, "
     "customer support, data extraction... What do you use them for at work?",
     [("bob", "Code review comments and writing SQL from a description. Retrieval-augmented answers over our docs."),
      ("lihua", "我们用它做中英翻译和会议纪要摘要，效果比以前的机器翻译好很多。")], None),
    ("general", "lihua", "discussion", "大语言模型的发展方向是什么？", ["趋势", "future"],
     "大语言模型（LLM）从海量文本中学习，已经能完成翻译、摘要、写代码等任务。接下来会往哪里发展？"
     "更小更高效的模型、多模态、还是更强的推理能力？",
     [("alice", "My bet: smaller models that run locally (like SmolLM2), better tool use, and longer context."),
      ("bob", "还有数据偏见的问题：训练数据中的偏见会被模型放大，评估和对齐会越来越重要。")], None),
    ("questions", "lihua", "question", "如何评估大语言模型的数据偏见？", ["评估", "bias"],
     "训练数据来自互联网，难免存在数据偏见。有哪些基准或方法可以衡量模型输出中的偏见？",
     [("alice", "Start with benchmarks such as BBQ (bias in question answering) and WinoBias, and always "
                "look at per-group error rates rather than one average score.")], None),
    ("deployment", "bob", "question", "Why does batching make inference so much faster?", ["inference", "batching"],
     "Running 8 prompts one by one takes ~8x as long as one. Batched it's barely slower than one. Why?",
     [("alice", "Decoding is memory-bound: every step reads all the weights for just one token per "
                "sequence. With a batch, the same read serves 8 sequences, so throughput rises almost "
                "linearly until compute becomes the limit. Our playground batches concurrent jobs the "
                "same way — see the benchmark in `bench/results/inference.md`.")], 0),
    ("training", "alice", "discussion", "LoRA vs full fine-tuning on a small budget", ["lora", "fine-tuning"],
     "For a 0.5B model on one consumer GPU, LoRA with rank 16 gets me within a point of full "
     "fine-tuning on my classification task, at a fraction of the memory. Anyone seeing otherwise?", [], None),
]


def seed() -> str:
    users = {spec["username"]: _user(spec) for spec in USERS}
    for spec in CATEGORIES:
        Category.objects.update_or_create(slug=spec["slug"], defaults=spec)
    created = sum(_thread(users, *spec) for spec in THREADS)
    return (f"{len(users)} users (password {DEMO_PASSWORD!r}), {len(CATEGORIES)} categories, "
            f"{created} new threads")


def _user(spec: dict) -> User:
    user, created = User.objects.get_or_create(username=spec["username"], defaults={
        **spec, "email": f"{spec['username']}@example.com"})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _thread(users, category, author, kind, title, tags, body, replies, accepted) -> bool:
    if Thread.objects.filter(title=title).exists():
        return False
    thread = services.create_thread(author=users[author], category=Category.objects.get(slug=category),
                                    title=title, body=body, tags=tags, kind=kind, enforce_limits=False)
    posts = [services.create_post(author=users[reply_author], thread=thread, body=text, enforce_limits=False)
             for reply_author, text in replies]
    if accepted is not None:
        services.accept_answer(user=users[author], thread=thread, post=posts[accepted])
    return True
