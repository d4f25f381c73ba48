"""SageMaker pipeline definitions, built offline with the ``sagemaker`` SDK v3.

The builders return the definition JSON that the CDK stacks embed in
``AWS::SageMaker::Pipeline`` at synth time:

``training_pipeline.build_training_pipeline``
    preprocess, managed-spot training, evaluation, AUC gate, quality baselines and
    registration pending approval;
``batch_pipeline.build_batch_pipeline``
    one batch transform job with a deployed model.

``offline_sdk`` holds everything needed to run the SDK with no credentials and no
network; ``job_instance_types``, ``pipeline_arguments`` and ``retry_policies`` are shared
by the builders. ``steps/`` holds the scripts that run inside the SageMaker containers;
the definitions refer to them only by ``s3://`` URI.

This package deliberately imports nothing from the SDK: the step scripts and their tests
must not pay for (or depend on) the SDK.
"""
