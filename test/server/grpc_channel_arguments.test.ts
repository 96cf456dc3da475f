// TF Serving's --grpc_channel_arguments syntax: key=value pairs, 32-bit integers as numbers, the rest as strings.
import { describe, expect, it } from 'vitest';
import { parseGrpcChannelArguments } from '../../server/grpc/server.js';

describe('parseGrpcChannelArguments', () => {
  it('reads key=value pairs, integers as numbers', () => {
    expect(parseGrpcChannelArguments('grpc.max_receive_message_length=8388608,grpc.primary_user_agent=x=y,grpc.big=99999999999')).toEqual({
      'grpc.max_receive_message_length': 8388608,
      'grpc.primary_user_agent': 'x=y',
      'grpc.big': '99999999999',
    });
    expect(parseGrpcChannelArguments('')).toEqual({});
  });

  it('refuses an entry that is not key=value, naming it', () => {
    expect(() => parseGrpcChannelArguments('grpc.keepalive_time_ms')).toThrow(/"grpc.keepalive_time_ms" is not key=value/);
    expect(() => parseGrpcChannelArguments('=5')).toThrow(/is not key=value/);
  });
});
