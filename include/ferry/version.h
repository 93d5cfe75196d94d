/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FERRY_VERSION_H
#define FERRY_VERSION_H

#define FERRY_VERSION "0.1.0"

#endif
