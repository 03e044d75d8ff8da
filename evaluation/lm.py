"""The model under evaluation, as lm-evaluation-harness sees it.

`EngineLM` drives the platform's built-in engine in-process (the evaluation worker's own warm
engine, from playground's registry): log-likelihoods are the engine's prompt log-probabilities
(`echo`) and its scores of candidate next tokens, the choices of a question that share all but
their last token scored from one pass; generations its greedy decoding with stop strings; every request goes into the
engine's batches. Tokenisation, the empty-context prefix token, rolling windows, the context
truncation and the stop handling are lm-eval's own (TemplateLM, lm_eval.utils), configured as
its `hf` model configures them, so both score the same tokens.

`UpstreamLM` is lm-eval's own `local-completions` client against an OpenAI-compatible server,
with the runtime's key, fed in chunks so that the run can report progress and stop.

Both call `progress(n)` as requests finish and `check()` between them, which raises to stop
the run (a cancel, the deadline).
"""
from __future__ import annotations

import os
import threading
from typing import Callable

from lm_eval.api.model import TemplateLM
from lm_eval.models.openai_completions import LocalCompletionsAPI
from lm_eval.models.utils import handle_stop_sequences, has_bos_prefix, normalize_gen_kwargs, \
    postprocess_generated_text
from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

from playground.engine import BatchingEngine, GenerationRequest, GenerationResult

Progress = Callable[[int], None]
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval's default when a task sets none


class EngineLM(TemplateLM):
    def __init__(self, engine: BatchingEngine, *, max_length: int, progress: Progress,
                 check: Callable[[], None], deadline: float | None = None, window: int | None = None):
        super().__init__()
        self.engine = engine
        self.tokenizer = engine.tokenizer
        self.max_length = max_length
        self.progress = progress
        self.check = check
        self.deadline = deadline  # a time.monotonic() instant
        # Requests in the engine's queue at once: enough to keep its batches full, few enough
        # that a cancel leaves little queued work behind.
        self.window = window or engine.max_batch * 4
        self._stop = threading.Event()
        self.tokens_scored = 0  # tokens whose log-likelihood was computed (for throughput)
        self.tokens_generated = 0

    # --- tokenisation, as lm-eval's HFLM does it ------------------------------------------------
    @property
    def eot_token_id(self) -> int:
        return self.tokenizer.eos_token_id

    @property
    def prefix_token_id(self) -> int:
        if self.tokenizer.bos_token_id is not None:
            return self.tokenizer.bos_token_id
        return self.tokenizer.eos_token_id

    def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs) -> list[int]:
        options = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        if add_special_tokens is None and has_bos_prefix(string, self.tokenizer.decode(self.prefix_token_id)):
            options["add_special_tokens"] = False
        return self.tokenizer.encode(string, **options)

    # --- requests --------------------------------------------------------------------------------
    def _run(self, requests: list[GenerationRequest], weights: list[int]) -> list[GenerationResult]:
        """Through the engine, `window` at a time in flight, longest prompts first (as lm-eval's
        own models order them: batches of similar lengths pad least); `weights[i]` is how much
        finishing request i advances the progress. Results come back in the requests' order."""
        for request in requests:
            request.should_cancel = self._stop.is_set
            request.deadline = self.deadline
        order = sorted(range(len(requests)), key=lambda i: -len(requests[i].prompt_ids))
        results: list[GenerationResult | None] = [None] * len(requests)
        pending: dict[int, object] = {}  # position in `order` -> its engine request
        following = 0
        try:
            while following < len(order) or pending:
                while following < len(order) and len(pending) < self.window:
                    pending[following] = self.engine.submit(requests[order[following]])
                    following += 1
                first = min(pending)
                while not pending[first].wait(0.1):
                    self.check()
                index = order[first]
                results[index] = pending.pop(first).outcome()
                if results[index].finish_reason in ("cancelled", "timeout"):
                    self.check()  # raises: the run was cancelled or is past its deadline
                    raise TimeoutError("The evaluation ran past its deadline.")
                if weights[index]:
                    self.progress(weights[index])
        except BaseException:
            self._stop.set()  # what is still in the engine ends at its next step
            raise
        return results  # type: ignore[return-value]

    def _score(self, pairs: list[tuple[list[int], list[int]]], weights: list[int]) -> list[tuple[float, bool]]:
        """Log-likelihood of each continuation after its context, and whether every token of it
        is the most likely one.

        As lm-eval's `hf` model does it: pairs that share context + continuation[:-1] (the
        choices of a multiple-choice question, which often differ in their last token only) are
        scored from one pass over that shared prefix, truncated on the left to the model's length;
        its last position scores each pair's final token (the engine's `candidates`), and the
        prompt's own log-probabilities the tokens before it."""
        groups: dict[tuple[int, ...], list[int]] = {}  # the shared prefix -> its pairs' positions
        for index, (context, continuation) in enumerate(pairs):
            groups.setdefault(tuple((context + continuation[:-1])[-self.max_length:]), []).append(index)
        prefixes = list(groups)
        requests = []
        for prefix in prefixes:
            members = groups[prefix]
            echo = any(len(pairs[i][1]) > 1 for i in members)
            requests.append(GenerationRequest(prompt_ids=list(prefix), max_new_tokens=0, prompt_logprobs=echo,
                                              top_logprobs=1 if echo else 0,
                                              candidates=[pairs[i][1][-1] for i in members]))
        results = self._run(requests, [sum(weights[i] for i in groups[prefix]) for prefix in prefixes])
        answers: list[tuple[float, bool]] = [(0.0, False)] * len(pairs)
        for prefix, result in zip(prefixes, results):
            for index, (last, last_greedy) in zip(groups[prefix], result.candidate_scores):
                before = len(pairs[index][1]) - 1  # the continuation's tokens inside the prefix
                entries = result.prompt_logprobs[len(prefix) - before:] if before else []
                logprob = last + sum(entry["logprob"] for entry in entries)
                greedy = last_greedy and all(
                    entry["top_logprobs"] and entry["logprob"] >= entry["top_logprobs"][0]["logprob"]
                    for entry in entries)
                answers[index] = (logprob, greedy)
                self.tokens_scored += before + 1
        return answers

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, **kwargs):
        return self._score([(context, continuation) for _key, context, continuation in requests],
                           [1] * len(requests))

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        windows, owners, weights = [], [], []
        for index, (text,) in enumerate(req.args for req in requests):
            mine = [make_disjoint_window(w) for w in get_rolling_token_windows(
                token_list=self.tok_encode(text), prefix_token=self.prefix_token_id,
                max_seq_len=self.max_length, context_len=1)]
            windows += mine
            owners += [index] * len(mine)
            weights += [0] * (len(mine) - 1) + [1] if mine else []
        totals = [0.0] * len(requests)
        for owner, (logprob, _greedy) in zip(owners, self._score(windows, weights)):
            totals[owner] += logprob
        return totals

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        eos = self.tokenizer.decode(self.eot_token_id, skip_special_tokens=False)
        prepared, stops = [], []
        for context, gen_kwargs in (req.args for req in requests):
            kwargs = normalize_gen_kwargs(gen_kwargs, DEFAULT_MAX_GEN_TOKS)
            until = handle_stop_sequences(kwargs.pop("until", None), eos=eos)
            max_gen = kwargs.pop("max_gen_toks")
            encoded = self.tokenizer(context)["input_ids"][-(self.max_length - max_gen):]
            prepared.append(GenerationRequest(prompt_ids=encoded, max_new_tokens=max_gen,
                                              temperature=float(kwargs.get("temperature") or 0.0),
                                              stop=until))
            stops.append(until)
        outputs = []
        for result, until in zip(self._run(prepared, [1] * len(prepared)), stops):
            self.tokens_generated += result.completion_tokens
            outputs.append(postprocess_generated_text(result.text, until, None))
        return outputs


class UpstreamLM(LocalCompletionsAPI):
    """lm-eval's `local-completions` with the runtime's API key, a chunk of requests at a time."""

    CHUNK = 32

    def __init__(self, *, api_key_env: str, progress: Progress, check: Callable[[], None], **kwargs):
        self._api_key_env = api_key_env
        self.progress, self.check = progress, check
        super().__init__(**kwargs)

    @property
    def api_key(self) -> str:
        return os.environ.get(self._api_key_env, "") if self._api_key_env else ""

    def _chunked(self, method, requests, **kwargs) -> list:
        out = []
        for start in range(0, len(requests), self.CHUNK):
            self.check()
            chunk = requests[start:start + self.CHUNK]
            out += method(chunk, disable_tqdm=True, **kwargs)
            self.progress(len(chunk))
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False, **kwargs):
        return self._chunked(super().loglikelihood, requests)

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False, **kwargs):
        return self._chunked(super().loglikelihood_rolling, requests)

    def generate_until(self, requests, disable_tqdm: bool = False, **kwargs):
        return self._chunked(super().generate_until, requests)
