"""SageMaker pipeline definitions, built offline with the ``sagemaker`` SDK v3.

The builders return the definition JSON that the CDK stacks embed in
``AWS::SageMaker::Pipeline`` at synth time:

``training_pipeline.build_training_pipeline``
    preprocess, managed-spot training, evaluation, AUC gate, quality baselines and
    registration pending approval;
``batch_pipeline.build_batch_pipeline``
    one batch transform job with a deployed model;
``automl_pipeline.build_automl_pipeline``
    an Autopilot job (ensembling), AUC gate, best candidate registered;
``fine_tuning_pipeline.build_fine_tuning_pipeline``
    a pinned foundation model (``platform_config/foundation_models.json``) fine-tuned on
    GPU or Trainium, registered.

``pipeline_kinds`` holds the kinds a model's ``pipeline.kind`` may name: the three above
(``BUILT_IN_KINDS``), beside any a platform team's plugin adds
(``examples/custom_pipeline_kind``); ``plugin_of`` finds the one that builds a validated
spec.

The training pipeline also trains on several instances with sharded data
(``distribution: sharded_by_s3_key`` of the model's ``TrainingPipelineSpec``).

The training pipeline's check steps take ``SkipDriftCheck`` and ``RegisterNewBaseline``
as ``platform_contracts/retraining.py`` defines them; ``clarify_checks`` builds its Clarify
bias and explainability checks; ``mlflow_tracking`` gives every builder the pipeline's
MLflow configuration and the package's link to its run.

``offline_sdk`` holds everything needed to run the SDK with no credentials and no
network; ``pipeline_arguments``, ``retry_policies`` and ``model_registration`` are shared
by the builders. The facts the builders share with the configuration (the pinned
foundation models and container images, what each instance type computes with and whether
it has local storage) are the configuration's (``platform_config/foundation_models.py``,
``platform_config/container_images.py``, ``platform_config/aws_facts.py``): this package
imports the configuration, never the reverse.
``steps/`` holds the scripts that run inside the SageMaker containers; the definitions
refer to them only by ``s3://`` URI.

This package deliberately imports nothing from the SDK: the step scripts and their tests
must not pay for (or depend on) the SDK.
"""
