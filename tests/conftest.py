pytest_plugins = ["backbeat.testing.pytest_plugin"]
