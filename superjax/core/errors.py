"""The one exception type the CLI turns into a one-line message and exit code 2."""


class SuperjaxError(Exception):
  """A problem with the user's input or files, explained in one line."""


# The one line that refuses a run made by other code (on resume or on a finished run).
CODE_CHANGED = ("the model's code changed since this run ({where}): --fresh to start anew "
                "(the old run is kept beside it), or --out elsewhere")
