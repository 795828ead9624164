"""The production settings pass Django's deployment checks as they are."""

from tests.prodsettings import manage, prod_env


def test_check_deploy_with_the_prod_settings_prints_no_warnings(tmp_path):
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=prod_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
