/** Examples, command line, presets, demos and benchmarks of rlhf4j (the only module that binds Logback). */
package org.rlhf4j.examples;
