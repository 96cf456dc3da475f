# TF 2.21 float32 tanh on special values, a grid over [-9, 9] and random points: the ground truth
# of test/runtime/simd/tanh.test.ts. Run from the repository root with TensorFlow installed.
import numpy as np, tensorflow as tf, json, base64
rs=np.random.RandomState(7)
x=np.concatenate([
  np.array([0.0,-0.0,np.inf,-np.inf,np.nan,1e-30,-1e-30,1e-7,7.90738964080810547,-7.90738964080810547,7.9073896,8.0,20.0,-20.0,1.25,0.0004,3.4e38],np.float32),
  np.linspace(-9,9,3001).astype(np.float32),
  (rs.standard_normal(1000)*2).astype(np.float32),
  rs.uniform(-1e-3,1e-3,200).astype(np.float32)]).astype(np.float32)
y=tf.math.tanh(tf.constant(x)).numpy()

json.dump({"op":"Tanh","dtype":"float32","tf_version":tf.__version__,"x_f32_le_base64":base64.b64encode(x.tobytes()).decode(),"y_f32_le_base64":base64.b64encode(y.tobytes()).decode()}, open('test/runtime/simd/fixtures/tanh_tf.json','w'))
print(len(x))
