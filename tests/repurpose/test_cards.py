"""What a card shows: a run's progress and its end in words, and each post as its platform
lays it out (drawn thread numbers, the feed's fold, a script's timings)."""

from __future__ import annotations

from omnipostr.repurpose import cards
from omnipostr.repurpose.variant import Variant as Post


def test_the_progress_line_says_what_is_ready_what_failed_and_how_long_it_has_been():
    assert cards.progress_line(5, 0, 0, 0) == "0 of 5 ready"
    assert cards.progress_line(5, 3, 1, 12) == "2 of 5 ready · 1 failed · 12 s"
    assert cards.progress_line(1, 1, 0, 2) == "1 of 1 ready · 2 s"


def test_the_end_of_a_run_is_announced_in_a_sentence():
    assert cards.announcement(5, 5, 0) == "All 5 posts are ready."
    assert cards.announcement(1, 1, 0) == "The post is ready."
    assert cards.announcement(5, 5, 2) == "3 of 5 posts are ready; 2 failed and can be retried."
    assert cards.announcement(3, 3, 3) == "No post could be written; retry them when you are ready."
    assert cards.announcement(1, 1, 1) == "The post could not be written; retry it."


def test_a_thread_card_draws_its_numbers_counts_them_and_copies_them_once():
    posts, _ = cards.meters(Post("x", ["One. 1/3", "Two.", "Three."]))
    assert [m.text for m in posts] == ["One.", "Two.", "Three."]
    assert [m.mark for m in posts] == ["1/3", "2/3", "3/3"]
    assert [m.sent for m in posts] == ["One. 1/3", "Two. 2/3", "Three. 3/3"]
    assert [m.count for m in posts] == [8, 8, 10]  # as X counts them: with the number
    assert cards.copy_text(Post("x", ["One.", "Two."])) == "One. 1/2\n\n---\n\nTwo. 2/2"
    single, _ = cards.meters(Post("x", ["Alone."]))
    assert single[0].mark == "" and single[0].sent == "Alone."
    bluesky, _ = cards.meters(Post("bluesky", ["One.", "Two."]))
    assert [m.mark for m in bluesky] == ["", ""]


def test_linkedin_and_instagram_fold_where_their_feeds_do():
    long = "word " * 60 + "end."
    head, rest = cards.fold("linkedin", long)
    assert len(head) <= 210 and head.endswith("word") and (head + " " + rest).split() == long.split()
    assert cards.fold("linkedin", "Short.") == ("Short.", "")
    # three lines show on LinkedIn, two on Instagram, however short
    assert cards.fold("linkedin", "a\nb\nc\nd") == ("a\nb\nc", "d")
    assert cards.fold("instagram", "a\nb\nc") == ("a\nb", "c")
    head, _ = cards.fold("instagram", "x" * 300)
    assert len(head) == 125
    assert cards.fold("x", long) == (long, "")
    m = cards.meters(Post("linkedin", [long]))[0][0]
    assert (m.head, m.rest) == cards.fold("linkedin", long)


def test_a_script_is_shown_beat_by_beat_with_the_time_each_is_said_at():
    typed = cards.beats("[0:00] Hook.\n\n[0:05] Next beat.\n\nOne two three four five.", 150)
    assert [(b.at, b.text) for b in typed] == [("0:00", "Hook."), ("0:05", "Next beat."), ("0:06", "One two three four five.")]
    counted = cards.beats("one two three four five six seven eight nine ten\n\nEleven.", 150)
    assert [b.at for b in counted] == ["0:00", "0:04"]
    m = cards.meters(Post("tiktok", ["[0:00] Hook.\n\n[0:03] Then this."], {"hook": "Hook.", "caption": "Caption"}))[0][0]
    assert [b.at for b in m.beats] == ["0:00", "0:03"]
