"""Hosts the appcdn components as a Pulumi component package (``PulumiPlugin.yaml`` beside this file)."""

from pulumi.provider.experimental import component_provider_host

from appcdn.program.package_schema import COMPONENTS, PACKAGE, VERSION

if __name__ == "__main__":
    component_provider_host(COMPONENTS, PACKAGE, version=VERSION)
