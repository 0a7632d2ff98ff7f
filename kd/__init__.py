"""SharpCam training side: teacher, students, distillation, evaluation and ONNX export (needs torch)."""
