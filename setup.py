"""Package discovery: `src/bastion` is `bastion`, top-level `rules/` installs as `bastion.rules`."""

from setuptools import find_packages, setup

rule_packages = ["bastion.rules"] + [f"bastion.rules.{p}" for p in find_packages("rules")]
package_dir = {"bastion": "src/bastion", "bastion.rules": "rules"}

setup(
    packages=find_packages("src") + ["bastion.reporters.templates"] + rule_packages,
    package_dir=package_dir,
    package_data={
        "bastion": ["py.typed"],
        "bastion.reporters.templates": ["*.j2"],
        "bastion.rules": ["py.typed"],
    },
)
