"""Incremental detokenisation: whole characters, right spaces, linear work."""
from playground.engine.streaming import TextStreamer

ESSAY = ("Rivers shape the land they cross. Over thousands of years they carve valleys, carry silt to the sea "
         "and feed the towns that grow along their banks. ") * 8


class CountingTokenizer:
    """Wraps a tokenizer and records how many ids each decode call was given."""

    def __init__(self, inner):
        self.inner = inner
        self.decoded: list[int] = []

    def decode(self, ids, skip_special_tokens=True):
        self.decoded.append(len(ids))
        return self.inner.decode(ids, skip_special_tokens=skip_special_tokens)


def stream(tokenizer, ids, stop=()):
    """Push the ids one at a time as the engine does: the deltas, then the flushed tail, and the streamer."""
    streamer, deltas = TextStreamer(tokenizer, list(stop)), []
    for n in range(1, len(ids) + 1):
        delta, hit_stop = streamer.push(ids[:n])
        deltas.append(delta)
        if hit_stop:
            break
    deltas.append(streamer.flush(ids[:n]))
    return deltas, streamer


def test_chinese_split_across_byte_tokens_streams_whole_characters(engine):
    tokenizer = engine.tokenizer
    ids = tokenizer.encode("今天天气很好，我们去公园散步吧。", add_special_tokens=False)
    assert any(tokenizer.decode(ids[:n]).endswith("\ufffd") for n in range(1, len(ids)))  # really split
    deltas, streamer = stream(tokenizer, ids)
    assert all("\ufffd" not in d for d in deltas)
    assert "".join(deltas) == streamer.text == tokenizer.decode(ids, skip_special_tokens=True)


def test_a_character_cut_in_half_by_the_token_limit_is_dropped(engine):
    tokenizer = engine.tokenizer
    ids = tokenizer.encode("今天天气很好", add_special_tokens=False)
    cut = next(n for n in range(1, len(ids)) if tokenizer.decode(ids[:n]).endswith("\ufffd"))
    deltas, streamer = stream(tokenizer, ids[:cut])
    assert "".join(deltas) == streamer.text == tokenizer.decode(ids[:cut]).rstrip("\ufffd")
    assert "\ufffd" not in streamer.text


def test_decoding_work_per_token_is_bounded(engine):
    tokenizer = CountingTokenizer(engine.tokenizer)
    ids = engine.tokenizer.encode(ESSAY, add_special_tokens=False)
    assert len(ids) > 200
    streamer = TextStreamer(tokenizer, [])
    deltas = []
    for n in range(1, len(ids) + 1):
        before = len(tokenizer.decoded)
        deltas.append(streamer.push(ids[:n])[0])
        assert sum(tokenizer.decoded[before:]) <= 16  # a short window, not the whole output
    deltas.append(streamer.flush(ids))
    assert "".join(deltas) == engine.tokenizer.decode(ids, skip_special_tokens=True)


def test_stop_strings_cut_the_text_and_never_leak(engine):
    ids = engine.tokenizer.encode("One, two, three. Four, five.", add_special_tokens=False)
    deltas, streamer = stream(engine.tokenizer, ids, stop=["Four", "e."])
    assert streamer.text == "One, two, thre" and "".join(deltas) == streamer.text


def test_sentencepiece_leading_spaces_survive_incremental_decoding():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    vocab = {"<unk>": 0, "▁Hello": 1, "▁world": 2, ",": 3, "▁again": 4}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    ids = [1, 2, 3, 4, 1]
    assert tokenizer.decode([2]) == "world"  # alone, a piece loses its space
    deltas, streamer = stream(tokenizer, ids)
    assert deltas[:5] == ["Hello", " world", ",", " again", " Hello"]
    assert "".join(deltas) == streamer.text == "Hello world, again Hello"
