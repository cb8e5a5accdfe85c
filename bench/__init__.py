"""`manage.py bench`: a daily run for many subscribers, stage by stage, against the naive way.

The whole run happens in a throwaway database of its own (see `database`), so it never
touches a user's subscribers or digests. See `runner.run` for what each stage times.
"""
