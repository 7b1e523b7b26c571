"""Settings shared by the whole test suite."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """The networks in the tests are small: one BLAS thread is faster than several
    (a small lbfgs fit ran 30x slower with two threads than with one on a busy
    2-core machine) and steadier. Parallel workers set their own limits."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
