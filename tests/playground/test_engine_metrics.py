"""The engine's cheap observation hook: one (rows, seconds) entry per decode step, bounded."""
from playground.engine import GenerationRequest


def chat(engine, text, **params):
    return GenerationRequest(prompt_ids=engine.encode_chat([{"role": "user", "content": text}]), **params)


def test_each_decode_step_records_its_rows_and_duration(engine):
    engine.step_times.clear()
    n = 5
    pendings = [engine.submit(chat(engine, text, max_new_tokens=n, min_new_tokens=n))
                for text in ("What is the capital of France?", "Name three colours.")]
    assert all(p.wait(60) for p in pendings)
    steps = list(engine.step_times)
    # n tokens take n-1 forward passes after the prefill; the last token ends the row without one.
    # The two requests may be prefilled together or one after the other, so count row-steps.
    assert sum(rows for rows, _ in steps) == 2 * (n - 1)
    assert {rows for rows, _ in steps} <= {1, 2}
    assert all(0 < seconds < 60 for _, seconds in steps)


def test_the_record_is_bounded(engine):
    assert engine.step_times.maxlen is not None
