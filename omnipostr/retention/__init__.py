"""Retention: the rules that say how long each kind of data is kept, the jobs that apply them,
legal holds that suspend them, and the date each item goes."""
