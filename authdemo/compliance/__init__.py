"""Accountability tooling for compliance/: the drift check and the privacy manifest.

``flask compliance check`` proves that the documents in compliance/ still describe the
app that runs: every cited test exists, the data inventory matches the schema, every
cited setting has the value the documents give, the consent notices are the ones the app
renders, and no checklist item claims something without a test (GDPR Art 5(2),
accountability). ``flask compliance manifest`` and ``/privacy/manifest`` publish what is
collected, why and for how long from the live configuration, so the public description
cannot disagree with what runs.
"""
