from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo: two simulated sites with their plant, people, owners and history.

    The top of the layer order: it seeds every other app, each through that app's services.
    """

    name = "apps.demo"
    verbose_name = "Demo"
