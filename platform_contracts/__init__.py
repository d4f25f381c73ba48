"""Facts shared by the stacks and the Lambda functions, in the standard library only.

The stacks write these facts (parameter names, settings documents) into the templates; the
functions read them at run time. Each Lambda package gets this package vendored
(``stacks/lambda_packages.py``), so both sides import the same definitions: nothing is
renamed or re-validated on the way.
"""
