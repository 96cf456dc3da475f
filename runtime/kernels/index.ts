/** Registers every kernel family. Import this once before compiling graphs. */
import './array.js';
import './base64.js';
import './cast.js';
import './control.js';
import './image.js';
import './math.js';
import './nn.js';
import './parsing.js';
import './random.js';
import './reduction.js';
import './save.js';
import './state.js';
import './string.js';
import './tensor_list.js';
import './lookup/lookup_kernels.js';
