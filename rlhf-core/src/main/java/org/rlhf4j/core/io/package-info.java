/**
 * Reading and writing model files: Hugging Face safetensors (zero-copy memory-mapped reader, atomic writer) and the
 * JSON helpers shared by configs, trainer state and provenance.
 */
package org.rlhf4j.core.io;
