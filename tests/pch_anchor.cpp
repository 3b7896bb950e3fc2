// Anchors the precompiled header the core test suites share.
