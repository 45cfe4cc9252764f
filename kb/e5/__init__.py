"""multilingual-e5-small without the 4-bit engine: model file, tokenizer, int8 ONNX query encoder."""
