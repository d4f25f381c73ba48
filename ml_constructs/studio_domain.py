"""A SageMaker domain in VPC-only mode with Studio, its user profiles and shared spaces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from platform_config import AuthMode, StudioApp, StudioConfig
from platform_config.environment_spec import SharedSpaceSpec, UserProfileSpec
from platform_config.names import studio_lifecycle_config_name

#: CloudFormation's limit on a Studio lifecycle configuration (base64-encoded).
MAX_LIFECYCLE_SCRIPT_BYTES = 16384
_APP_TYPES = {StudioApp.JUPYTER_LAB: "JupyterLab", StudioApp.CODE_EDITOR: "CodeEditor"}


class _AppSettings(TypedDict):
    """Keyword arguments shared by the domain's JupyterLab and Code Editor app settings."""

    default_resource_spec: sagemaker.CfnDomain.ResourceSpecProperty
    lifecycle_config_arns: list[str]
    app_lifecycle_management: sagemaker.CfnDomain.AppLifecycleManagementProperty


class StudioDomain(Construct):
    """The domain, its Studio lifecycle configurations, user profiles and shared spaces.

    Studio runs only inside the platform's VPC (``VpcOnly``), its storage is encrypted with
    the given key, users act as the given execution role unless their profile names another,
    and JupyterLab and Code Editor apps stop after ``settings.idle_timeout_minutes`` idle
    (users may choose a shorter time, never a longer one).

    Attributes
    ----------
    domain:
        The ``AWS::SageMaker::Domain`` (logical id stable via ``Default``).
    domain_id:
        Its id.
    lifecycle_configs:
        ``AWS::SageMaker::StudioLifecycleConfig`` by app (``JupyterLab``, ``CodeEditor``).
    user_profiles, spaces:
        ``AWS::SageMaker::UserProfile`` and ``AWS::SageMaker::Space`` by name.

    Parameters
    ----------
    domain_name:
        Physical name of the domain.
    settings:
        Authentication, idle shutdown, instance and storage defaults, users and spaces.
    vpc, subnets, security_group:
        Where Studio apps run and which group they are in.
    key:
        KMS key of the domain's storage.
    execution_role:
        Default role of users and spaces.
    lifecycle_script:
        Shell script run when an app starts; ``${Name}`` placeholders are filled by
        CloudFormation from ``lifecycle_variables`` (``Fn::Sub``).
    lifecycle_variables:
        Values of the script's placeholders (default none).
    removal_policy:
        Applied to the domain (its home file system holds users' files).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        settings: StudioConfig,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        key: kms.IKey,
        execution_role: iam.IRole,
        lifecycle_script: str,
        removal_policy: RemovalPolicy,
        lifecycle_variables: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if len(lifecycle_script.encode()) * 4 / 3 > MAX_LIFECYCLE_SCRIPT_BYTES:
            raise ValueError(
                f"lifecycle_script is {len(lifecycle_script.encode())} bytes; base64-encoded it"
                f" must stay under {MAX_LIFECYCLE_SCRIPT_BYTES}"
            )
        if not subnets:
            raise ValueError("subnets is empty; the domain needs at least one private subnet")
        self.settings = settings
        content = Fn.base64(Fn.sub(lifecycle_script, dict(lifecycle_variables or {})))
        self.lifecycle_configs = {
            app_type: sagemaker.CfnStudioLifecycleConfig(
                self,
                f"{app_type}Lifecycle",
                studio_lifecycle_config_name=studio_lifecycle_config_name(
                    domain_name, app_type.lower()
                ),
                studio_lifecycle_config_app_type=app_type,
                studio_lifecycle_config_content=content,
            )
            for app_type in _APP_TYPES.values()
        }
        security_groups = [security_group.security_group_id]
        self.domain = self._domain(
            domain_name, vpc, subnets, key, execution_role.role_arn, security_groups
        )
        self.domain.apply_removal_policy(removal_policy)
        self.domain_id = self.domain.attr_domain_id
        self.user_profiles: dict[str, sagemaker.CfnUserProfile] = {
            user.name: self._user_profile(user, execution_role.role_arn, security_groups)
            for user in settings.user_profiles
        }
        self.spaces: dict[str, sagemaker.CfnSpace] = {
            space.name: self._space(space) for space in settings.shared_spaces
        }

    def _domain(
        self,
        domain_name: str,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        key: kms.IKey,
        execution_role_arn: str,
        security_groups: list[str],
    ) -> sagemaker.CfnDomain:
        """The VPC-only domain with its users' and spaces' defaults."""
        domain = sagemaker.CfnDomain
        settings = self.settings
        return domain(
            self,
            "Default",
            domain_name=domain_name,
            auth_mode="SSO" if settings.auth_mode is AuthMode.SSO else "IAM",
            app_network_access_type="VpcOnly",
            vpc_id=vpc.vpc_id,
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            kms_key_id=key.key_arn,
            tag_propagation="ENABLED",
            domain_settings=domain.DomainSettingsProperty(security_group_ids=security_groups),
            default_user_settings=domain.UserSettingsProperty(
                execution_role=execution_role_arn,
                security_groups=security_groups,
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                jupyter_lab_app_settings=domain.JupyterLabAppSettingsProperty(
                    **self._app_settings("JupyterLab")
                ),
                code_editor_app_settings=domain.CodeEditorAppSettingsProperty(
                    **self._app_settings("CodeEditor")
                ),
                space_storage_settings=domain.DefaultSpaceStorageSettingsProperty(
                    default_ebs_storage_settings=domain.DefaultEbsStorageSettingsProperty(
                        default_ebs_volume_size_in_gb=settings.default_ebs_volume_size_gb,
                        maximum_ebs_volume_size_in_gb=settings.max_ebs_volume_size_gb,
                    )
                ),
            ),
            default_space_settings=domain.DefaultSpaceSettingsProperty(
                execution_role=execution_role_arn,
                security_groups=security_groups,
                jupyter_lab_app_settings=domain.JupyterLabAppSettingsProperty(
                    **self._app_settings("JupyterLab")
                ),
            ),
        )

    def _user_profile(
        self, user: UserProfileSpec, execution_role_arn: str, security_groups: list[str]
    ) -> sagemaker.CfnUserProfile:
        """A user's profile, acting as their own role or the domain's execution role."""
        return sagemaker.CfnUserProfile(
            self,
            f"User{_pascal(user.name)}",
            domain_id=self.domain_id,
            user_profile_name=user.name,
            single_sign_on_user_identifier="UserName" if user.sso_user_name else None,
            single_sign_on_user_value=user.sso_user_name,
            user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
                execution_role=user.execution_role_arn or execution_role_arn,
                security_groups=security_groups,
            ),
        )

    def _space(self, space: SharedSpaceSpec) -> sagemaker.CfnSpace:
        """A shared space of the domain, owned by one of its users."""
        app_type = _APP_TYPES[space.app]
        cfn_space = sagemaker.CfnSpace
        resource_spec = cfn_space.ResourceSpecProperty(
            instance_type=space.instance_type,
            lifecycle_config_arn=self.lifecycle_configs[app_type].attr_studio_lifecycle_config_arn,
        )
        # A space's apps follow the domain's idle shutdown (CloudFormation has no per-space
        # setting for it).
        app_settings = (
            {
                "jupyter_lab_app_settings": cfn_space.SpaceJupyterLabAppSettingsProperty(
                    default_resource_spec=resource_spec
                )
            }
            if space.app is StudioApp.JUPYTER_LAB
            else {
                "code_editor_app_settings": cfn_space.SpaceCodeEditorAppSettingsProperty(
                    default_resource_spec=resource_spec
                )
            }
        )
        shared = cfn_space(
            self,
            f"Space{_pascal(space.name)}",
            domain_id=self.domain_id,
            space_name=space.name,
            space_display_name=space.name,
            ownership_settings=cfn_space.OwnershipSettingsProperty(
                owner_user_profile_name=space.owner
            ),
            space_sharing_settings=cfn_space.SpaceSharingSettingsProperty(sharing_type="Shared"),
            space_settings=cfn_space.SpaceSettingsProperty(
                app_type=app_type,
                space_storage_settings=cfn_space.SpaceStorageSettingsProperty(
                    ebs_storage_settings=cfn_space.EbsStorageSettingsProperty(
                        ebs_volume_size_in_gb=space.ebs_volume_size_gb
                    )
                ),
                **app_settings,
            ),
        )
        shared.add_resource_dependency(self.user_profiles[space.owner])
        return shared

    def _idle_settings(self) -> sagemaker.CfnDomain.AppLifecycleManagementProperty:
        if not self.settings.idle_shutdown:
            idle = sagemaker.CfnDomain.IdleSettingsProperty(lifecycle_management="DISABLED")
        else:
            idle = sagemaker.CfnDomain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=self.settings.idle_timeout_minutes,
                min_idle_timeout_in_minutes=60,
                max_idle_timeout_in_minutes=self.settings.idle_timeout_minutes,
            )
        return sagemaker.CfnDomain.AppLifecycleManagementProperty(idle_settings=idle)

    def _app_settings(self, app_type: str) -> _AppSettings:
        """Keyword arguments of the domain's JupyterLab and Code Editor app settings."""
        lifecycle_arn = self.lifecycle_configs[app_type].attr_studio_lifecycle_config_arn
        return _AppSettings(
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                instance_type=self.settings.default_instance_type,
                lifecycle_config_arn=lifecycle_arn,
            ),
            lifecycle_config_arns=[lifecycle_arn],
            app_lifecycle_management=self._idle_settings(),
        )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
