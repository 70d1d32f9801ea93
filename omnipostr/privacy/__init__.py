"""Privacy: the published policy, and (as they land) the privacy center, requests and retention."""
