"""Files on disk, with no corpus knowledge: OpenPose JSON, .pami0 parts, manifests, annotations, videos, extraction npz."""
