"""ctlint: a least-privilege gate for AWS IAM."""

__version__ = "0.1.0"
INFORMATION_URI = "https://github.com/ctlint/ctlint"
