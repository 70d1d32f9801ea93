"""How a run's progress and its end are put into words on the composer."""

from __future__ import annotations

from omnipostr.repurpose import cards


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
