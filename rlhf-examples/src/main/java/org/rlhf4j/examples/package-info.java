/** Examples. */
package org.rlhf4j.examples;
