"""OmniPostr: one article in, platform-ready posts out."""
