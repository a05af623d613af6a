"""The joint O1 model: special tokens, pooling, losses, training loop, Ray Train launcher, inference encoder."""
