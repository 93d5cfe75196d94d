// SPDX-License-Identifier: Apache-2.0
/* crc_fold() for ferry itself (image_crc32c()): the injected code's source (parasite/crc_fold.c),
 * built hosted; its function carries its own target attribute (AVX-512, VPCLMULQDQ) and runs only
 * where crc_fold_usable() says so. */
#include "os/linux/parasite/crc_fold.c"
