"""Only the cffi hook lives here; everything else is in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["nmtools/native/build_ffi.py:ffibuilder"])
