#!/bin/bash
# Studio lifecycle configuration, run when a JupyterLab or Code Editor app starts.
#
# Deployed by the workspace stack through CloudFormation's Fn::Sub: every dollar-and-brace
# placeholder below is replaced with the environment's value at deploy time, so shell
# variables in this file are written in the plain $name form, never with braces.
#
# It writes the SageMaker Python SDK's defaults file, so that every job started from Studio
# runs in the platform's VPC with its KMS key and writes to its buckets without each notebook
# repeating them, and it points MLflow clients at the platform's tracking server.
set -eu

config_dir="$HOME/.config/sagemaker"
mkdir -p "$config_dir"
cat > "$config_dir/config.yaml" <<'YAML'
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      Session:
        DefaultS3Bucket: ${DatasetsBucket}
        DefaultS3ObjectKeyPrefix: studio
  TrainingJob:
    EnableNetworkIsolation: true
    EnableInterContainerTrafficEncryption: true
    VpcConfig:
      SecurityGroupIds: [${SecurityGroupId}]
      Subnets: [${SubnetIds}]
    OutputDataConfig:
      KmsKeyId: ${DataKeyArn}
    ResourceConfig:
      VolumeKmsKeyId: ${WorkloadKeyArn}
  ProcessingJob:
    NetworkConfig:
      EnableNetworkIsolation: true
      EnableInterContainerTrafficEncryption: true
      VpcConfig:
        SecurityGroupIds: [${SecurityGroupId}]
        Subnets: [${SubnetIds}]
    ProcessingOutputConfig:
      KmsKeyId: ${DataKeyArn}
    ProcessingResources:
      ClusterConfig:
        VolumeKmsKeyId: ${WorkloadKeyArn}
  Model:
    EnableNetworkIsolation: true
    VpcConfig:
      SecurityGroupIds: [${SecurityGroupId}]
      Subnets: [${SubnetIds}]
  EndpointConfig:
    KmsKeyId: ${WorkloadKeyArn}
  TransformJob:
    TransformOutput:
      KmsKeyId: ${DataKeyArn}
    TransformResources:
      VolumeKmsKeyId: ${WorkloadKeyArn}
YAML

tracking_uri='${MlflowTrackingUri}'  # empty when the environment has no tracking server
profile="$HOME/.bashrc"
marker="# ml-platform: MLflow tracking server"
if [ -n "$tracking_uri" ] && ! grep -qF "$marker" "$profile" 2>/dev/null; then
  {
    echo "$marker"
    echo "export MLFLOW_TRACKING_URI='$tracking_uri'"
  } >> "$profile"
fi
