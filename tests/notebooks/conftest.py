def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: needs chromium and playwright (real-browser tests)"
    )
