from indexer.analysis import terms, terms_with_spans


def test_plurals_and_verb_forms_meet():
    assert terms("stretches") == terms("stretching") == terms("stretch")


def test_hyphens_and_underscores_split_words():
    assert terms("trigger-point") == terms("trigger point")
    assert terms("sort_keys") == terms("sort keys")


def test_british_spelling_folds_to_american():
    assert terms("behavioural") == terms("behavioral")
    assert terms("Orthopaedic centre") == terms("orthopedic center")


def test_stop_words_only_when_asked():
    assert "the" not in terms("the back", stop=True)
    assert terms("the back")[0] == "the"


def test_spans_point_into_the_original_text():
    text = "Deep-tissue massages help."
    for term, start, end in terms_with_spans(text):
        assert text[start:end].lower().startswith(term[:3])


def test_overlong_tokens_are_dropped_quickly():
    import time

    junk = "q" * 1_000_000
    started = time.perf_counter()
    assert terms(f"heat {junk} ice") == terms("heat ice")
    assert time.perf_counter() - started < 1.0
