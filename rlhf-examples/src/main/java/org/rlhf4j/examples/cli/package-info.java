/** The {@code rlhf4j} command line: one picocli command per task, each with {@code --help}. */
package org.rlhf4j.examples.cli;
