"""Shared set-up for tests/signformer: demo exports and a config written the brief's way."""
from slt_nb.export.run import run_export
from slt_nb.formats.manifest import read_manifest
from slt_nb.params import load_params


# Exports trained together must mean the same thing column by column (signformer-config refuses
# How2Sign's seed layout beside LSFB-CONT's), so the shared exports use the aligned options.
ALIGNED = {"feature_layout": "aligned", "normalize": "shoulders", "fps": 25}


def make_demo_exports(tmp_path_factory, **options):
    """The demo How2Sign and LSFB-CONT exports, 3 samples a part so every split has several parts.

    Made once for the run (conftest.built_once: the modules here, on whichever worker, read the
    same folder; a test that changes files copies them first); returns (folder, manifests)."""
    from conftest import built_once
    from slt_nb.export.run import export_manifest_path

    options = options or ALIGNED

    def build(out):
        for name in ("How2Sign", "LSFB-CONT"):
            run_export(load_params(name, {"output_dir": str(out), "chunk_size": 3, **options}))

    tag = "-".join(f"{k}-{v}" for k, v in sorted(options.items()))
    out, _ = built_once(tmp_path_factory, f"signformer-demo-exports-{tag}", build)
    manifests = {name: read_manifest(export_manifest_path(load_params(name, {"output_dir": str(out), **options})))
                 for name in ("How2Sign", "LSFB-CONT")}
    return out, manifests


def brief_config(folder, max_sent_length=150, **extra) -> dict:
    """A Signformer config written the brief's way: export stems, a scalar feature_size."""
    data = {
        "data_path": str(folder),
        "version": "phoenix_2014_trans",
        "sgn": "sign", "txt": "text", "gls": "gloss",
        "train": ["How2Sign-1024.pami0.train", "LSFB-CONT-1024.pami0.train"],
        "dev": ["How2Sign-1024.pami0.val", "LSFB-CONT-1024.pami0.val"],
        "test": ["How2Sign-1024.pami0.test", "LSFB-CONT-1024.pami0.test"],
        "feature_size": 1024,
        "stream_train_parts": True,
        "level": "word",
        "txt_lowercase": True,
        "max_sent_length": max_sent_length,
    }
    data.update(extra)
    return {"name": "slt_nb_demo", "data": data, "training": {"batch_size": 4}}
