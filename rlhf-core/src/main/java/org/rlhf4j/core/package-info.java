/** Core building blocks. */
package org.rlhf4j.core;
