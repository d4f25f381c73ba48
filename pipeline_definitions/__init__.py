"""SageMaker pipeline definitions, built offline with the ``sagemaker`` SDK v3.

The builders (``training_pipeline``, ``batch_pipeline``) return the definition JSON that
the CDK stacks embed in ``AWS::SageMaker::Pipeline`` at synth time. ``offline_sdk`` holds
everything needed to run the SDK with no credentials and no network. ``steps/`` holds the
scripts that run inside the SageMaker containers; the definitions refer to them only by
``s3://`` URI.

This package deliberately imports nothing from the SDK: the step scripts and their tests
must not pay for (or depend on) the SDK.
"""
