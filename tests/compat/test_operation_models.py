"""Tests of breakwater/local/compat/operation_models.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any

from breakwater.local import compat


def test_a_service_model_hands_out_motos_operation_model_whoever_asked_first():
    """moto's operation_model first asks botocore's, which caches under the same key: a thread asking in
    between got botocore's model (no http_trait), and routing its request failed. Shown without threads:
    botocore's call, as moto's makes it, and then moto's."""
    import botocore.loaders
    from botocore.model import ServiceModel as BotocoreServiceModel
    from moto.core.model import ServiceModel

    compat.apply()
    description = botocore.loaders.Loader().load_service_model("lambda", "service-2")

    def asked_in_between() -> Any:
        model = ServiceModel(description, "lambda")
        BotocoreServiceModel.operation_model(model, "Invoke")  # moto's call is here, not yet done
        return model.operation_model("Invoke")  # the other thread's

    assert asked_in_between().http_trait.path == "/2015-03-31/functions/{FunctionName}/invocations"
    with compat.disabled("operation_models"):
        assert not hasattr(asked_in_between(), "http_trait")


def test_threads_asking_at_once_for_a_fresh_services_models_all_get_motos():
    import sys
    import threading

    import botocore.loaders
    from moto.core.model import ServiceModel

    compat.apply()
    description = botocore.loaders.Loader().load_service_model("lambda", "service-2")

    def plain_models_handed_out(trials: int = 30) -> int:
        wrong = []
        for _ in range(trials):
            model, start = ServiceModel(description, "lambda"), threading.Barrier(8)

            def route_everything(model: Any = model, start: threading.Barrier = start) -> None:
                start.wait()
                wrong.extend(n for n in model.operation_names if not hasattr(model.operation_model(n), "http_trait"))

            threads = [threading.Thread(target=route_everything) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return len(wrong)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can: the window is a few bytecodes wide
    try:
        with_patch = plain_models_handed_out()
        with compat.disabled("operation_models"):
            without = plain_models_handed_out()
    finally:
        sys.setswitchinterval(interval)
    assert (with_patch, without > 0) == (0, True), without
