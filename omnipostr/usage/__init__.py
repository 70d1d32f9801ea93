"""Usage events (USE-1): API calls, generations, features used and errors, with timestamps."""
